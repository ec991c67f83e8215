// Compiles the official CycloneDX 1.6 JSON schema (the one @cyclonedx/cyclonedx-library validates with,
// with the same ajv options and formats) into standalone validation code in dist/, so validating an
// SBOM takes milliseconds instead of compiling the schema in every process.
const { readFileSync, writeFileSync, mkdirSync } = require('node:fs');
const { join } = require('node:path');
const Ajv = require('ajv').default;
const { _ } = require('ajv');
const standaloneCode = require('ajv/dist/standalone').default;
const addFormats = require('ajv-formats');
const addFormats2019 = require('ajv-formats-draft2019');
const { _Resources } = require('@cyclonedx/cyclonedx-library');

const out = join(__dirname, '..', 'dist', 'sbom');
const files = _Resources.FILES;
const read = (path) => JSON.parse(readFileSync(path, 'utf8'));
const schemas = {
  'http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json': read(files.SPDX.JSON_SCHEMA),
  'http://cyclonedx.org/schema/cryptography-defs.SNAPSHOT.schema.json': read(files.CryptoDefs.JSON_SCHEMA),
  'http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json': read(files.JSF.JSON_SCHEMA),
};
const ajv = new Ajv({
  useDefaults: false,
  strict: false,
  strictSchema: false,
  addUsedSchema: false,
  schemas,
  code: { source: true, formats: _`require("./cdx-formats.cjs")` },
});
addFormats(ajv);
addFormats2019(ajv, { formats: ['idn-email'] });
ajv.addFormat('iri-reference', true);
const validate = ajv.compile(read(files.CDX.JSON_STRICT_SCHEMA['1.6']));
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'cdx-validator.cjs'), standaloneCode(ajv, validate));
writeFileSync(
  join(out, 'cdx-formats.cjs'),
  "module.exports = { ...require('ajv-formats/dist/formats').fullFormats, 'idn-email': require('ajv-formats-draft2019/formats/idn-email'), 'iri-reference': true };\n",
);
