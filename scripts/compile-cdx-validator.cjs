// Compiles the official CycloneDX 1.6 JSON schema (the one @cyclonedx/cyclonedx-library validates with,
// with the same ajv options and formats) into standalone validation code in dist/, so validating an
// SBOM takes milliseconds instead of compiling the schema in every process.
// One keyword is compiled differently: `uniqueItems` on arrays of objects, which ajv checks by comparing
// every pair of items (fast-deep-equal) — quadratic, 93% of the time of a 25,000-package SBOM. Here
// each item's canonical JSON (keys sorted) goes into a Map instead, written only for items that share a
// cheap fingerprint with an earlier one: linear, the same verdict for JSON data, and the same error
// (keyword, path, params i/j, message) as ajv's pairwise loop.
// The schemas are compiled without their annotations (descriptions, titles, examples, `meta:enum`),
// which validation and its errors never use: the code keeps every schema it checks against as an
// object literal, built when the validator loads, and the annotations were two thirds of it.
// The hash-value pattern is compiled in an equivalent form that tests each value in one pass
// (hash-pattern.cjs); errors still quote the schema's own pattern.
// The file holds what the validator requires when it loads (ajv's runtime helpers, the formats), so
// that a process finds and compiles nothing else, and all of it is in its code cache. The idn-email
// format is required when first used: its parser was most of that, and the SBOMs written here carry no
// e-mail address.
// Usage: node scripts/compile-cdx-validator.cjs [output directory]   (default dist/sbom)
const { readFileSync, writeFileSync, mkdirSync } = require('node:fs');
const { build } = require('esbuild');
const { join } = require('node:path');
const Ajv = require('ajv').default;
const { _ } = require('ajv');
const ajvUniqueItems = require('ajv/dist/vocabularies/validation/uniqueItems').default;
const { getSchemaTypes, checkDataTypes, DataType } = require('ajv/dist/compile/validate/dataType');
const { useFunc } = require('ajv/dist/compile/util');
const standaloneCode = require('ajv/dist/standalone').default;
const addFormats = require('ajv-formats');
const addFormats2019 = require('ajv-formats-draft2019');
const { _Resources } = require('@cyclonedx/cyclonedx-library');
const { SCHEMA_FORM, LINEAR } = require('./hash-pattern.cjs');

const out = process.argv[2] ?? join(__dirname, '..', 'dist', 'sbom');
const files = _Resources.FILES;
const read = (path) => withoutAnnotations(JSON.parse(readFileSync(path, 'utf8')));
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
ajv.removeKeyword('uniqueItems');
ajv.addKeyword(linearUniqueItems());
addFormats(ajv);
addFormats2019(ajv, { formats: ['idn-email'] });
ajv.addFormat('iri-reference', true);
const validate = ajv.compile(read(files.CDX.JSON_STRICT_SCHEMA['1.6']));
mkdirSync(out, { recursive: true });
const slowPattern = `new RegExp(${JSON.stringify(SCHEMA_FORM)}, "u")`;
const code = standaloneCode(ajv, validate);
if (code.split(slowPattern).length !== 2) throw new Error(`the compiled schema does not build ${slowPattern} once: update scripts/hash-pattern.cjs`);
const IDN_EMAIL = 'ajv-formats-draft2019/formats/idn-email';
const FORMATS = `module.exports = { ...require('ajv-formats/dist/formats').fullFormats, 'idn-email': (value) => require(${JSON.stringify(IDN_EMAIL)})(value), 'iri-reference': true };`;
const root = join(__dirname, '..');
build({
  stdin: { contents: code.replace(slowPattern, `new RegExp(${JSON.stringify(LINEAR)}, "u")`), resolveDir: root, sourcefile: 'cdx-validator.cjs', loader: 'js' },
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  write: false,
  legalComments: 'none',
  minifyWhitespace: true,
  // Written as ASCII (esbuild escapes other characters), which Node reads without decoding (util/code-cache.ts).
  charset: 'ascii',
  external: [IDN_EMAIL],
  plugins: [
    {
      name: 'formats',
      setup(b) {
        b.onResolve({ filter: /^\.\/cdx-formats\.cjs$/ }, () => ({ path: 'cdx-formats.cjs', namespace: 'formats' }));
        b.onLoad({ filter: /.*/, namespace: 'formats' }, () => ({ contents: FORMATS, loader: 'js', resolveDir: root }));
      },
    },
  ],
}).then(
  (bundled) => writeFileSync(join(out, 'cdx-validator.cjs'), bundled.outputFiles[0].text),
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);

/**
 * The schema without the keywords that only annotate (draft-07 and CycloneDX's own `meta:enum`): a
 * walk through the places that hold schemas, so that a property named `description` stays.
 */
function withoutAnnotations(schema) {
  const ANNOTATIONS = ['title', 'description', 'examples', '$comment', 'meta:enum', 'deprecated'];
  const NAMED = ['properties', 'patternProperties', 'definitions', '$defs', 'dependencies'];
  const NESTED = ['items', 'additionalItems', 'additionalProperties', 'contains', 'propertyNames', 'not', 'if', 'then', 'else', 'allOf', 'anyOf', 'oneOf'];
  const walk = (node) => {
    if (Array.isArray(node)) return node.map(walk);
    if (node === null || typeof node !== 'object') return node;
    const out = {};
    for (const [key, value] of Object.entries(node)) {
      if (ANNOTATIONS.includes(key)) continue;
      if (NAMED.includes(key) && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        out[key] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, walk(sub)]));
      } else out[key] = NESTED.includes(key) ? walk(value) : value;
    }
    return out;
  };
  return walk(schema);
}

/**
 * JSON with object keys sorted: two JSON values are deep-equal exactly when these strings are equal.
 * JSON.stringify with the sorted list of every key the value uses writes each object's keys in that
 * order (and leaves none out): native, about twice as fast as sorting and joining in JavaScript.
 */
function canonicalJson(value) {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  const names = new Set();
  const collect = (v) => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) for (let k = 0; k < v.length; k++) collect(v[k]);
    else for (const key of Object.keys(v)) {
      names.add(key);
      collect(v[key]);
    }
  };
  collect(value);
  return JSON.stringify(value, [...names].sort());
}

/**
 * A cheap stand-in for an item, equal for any two deep-equal JSON values (so items whose stand-ins
 * differ cannot be equal): for an object, its number of keys and its string member of the smallest
 * key; for an array, its length; a scalar itself. Items of an SBOM's arrays almost always differ in it
 * (a component's `bom-ref`, a dependency's `ref`), so few ever need their canonical JSON.
 */
function fingerprint(value) {
  if (value === null || typeof value !== 'object') return typeof value + String(value);
  if (Array.isArray(value)) return 'a' + value.length;
  let count = 0;
  let least;
  for (const key in value) {
    if (!Object.prototype.hasOwnProperty.call(value, key)) continue;
    count++;
    if (typeof value[key] === 'string' && (least === undefined || key < least)) least = key;
  }
  return least === undefined ? 'o' + count : 'o' + count + '\0' + least + '\0' + value[least];
}

/**
 * ajv's `uniqueItems` (ajv/lib/vocabularies/validation/uniqueItems.ts) with its pairwise loop replaced.
 * Arrays of scalars keep ajv's own linear loop. For the others, ajv reports the highest index i that
 * equals an earlier item, and j, the highest such earlier index; one pass from the start, remembering
 * the last index of each canonical form, finds the same pair. Only items whose fingerprint an earlier
 * item shares are put in canonical form (all of that fingerprint's items, from the first on): equal
 * items share their fingerprint, so each finds every earlier equal one, and the pair is the same.
 */
function linearUniqueItems() {
  // Inlined into the standalone code (named function expressions, so canonicalJson can call itself).
  canonicalJson.code = `(${canonicalJson.toString()})`;
  fingerprint.code = `(${fingerprint.toString()})`;
  return {
    ...ajvUniqueItems,
    code(cxt) {
      const { gen, data, $data, schema, parentSchema, schemaCode, it } = cxt;
      if (!$data && !schema) return;
      const valid = gen.let('valid');
      const itemTypes = parentSchema.items ? getSchemaTypes(parentSchema.items) : [];
      cxt.block$data(valid, validateUniqueItems, _`${schemaCode} === false`);
      cxt.ok(valid);

      function validateUniqueItems() {
        const i = gen.let('i', _`${data}.length`);
        const j = gen.let('j');
        cxt.setParams({ i, j });
        gen.assign(valid, true);
        gen.if(_`${i} > 1`, () => (canOptimize() ? loopScalars(i, j) : loopCanonical(i, j)));
      }

      function canOptimize() {
        return itemTypes.length > 0 && !itemTypes.some((t) => t === 'object' || t === 'array');
      }

      // As ajv has it.
      function loopScalars(i, j) {
        const item = gen.name('item');
        const wrongType = checkDataTypes(itemTypes, item, it.opts.strictNumbers, DataType.Wrong);
        const indices = gen.const('indices', _`{}`);
        gen.for(_`;${i}--;`, () => {
          gen.let(item, _`${data}[${i}]`);
          gen.if(wrongType, _`continue`);
          if (itemTypes.length > 1) gen.if(_`typeof ${item} == "string"`, _`${item} += "_"`);
          gen
            .if(_`typeof ${indices}[${item}] == "number"`, () => {
              gen.assign(j, _`${indices}[${item}]`);
              cxt.error();
              gen.assign(valid, false).break();
            })
            .code(_`${indices}[${item}] = ${i}`);
        });
      }

      function loopCanonical(i, j) {
        const canonical = useFunc(gen, canonicalJson);
        const print = useFunc(gen, fingerprint);
        const seen = gen.const('seen', _`new Map()`);
        // fingerprint -> the index of the one item that has it, or -1 once its items are in `seen`
        const prints = gen.const('prints', _`new Map()`);
        const dup = gen.let('dup');
        const k = gen.name('k');
        const f = gen.name('f');
        const first = gen.name('first');
        const key = gen.name('key');
        const earlier = gen.name('earlier');
        gen.for(_`let ${k} = 0; ${k} < ${i}; ${k}++`, () => {
          gen.const(f, _`${print}(${data}[${k}])`);
          gen.const(first, _`${prints}.get(${f})`);
          gen.if(_`${first} === undefined`, () => {
            gen.code(_`${prints}.set(${f}, ${k})`);
            gen.code(_`continue`);
          });
          gen.if(_`${first} >= 0`, () => {
            gen.code(_`${seen}.set(${canonical}(${data}[${first}]), ${first})`);
            gen.code(_`${prints}.set(${f}, -1)`);
          });
          gen.const(key, _`${canonical}(${data}[${k}])`);
          gen.const(earlier, _`${seen}.get(${key})`);
          gen.if(_`${earlier} !== undefined`, () => {
            gen.assign(dup, k);
            gen.assign(j, earlier);
          });
          gen.code(_`${seen}.set(${key}, ${k})`);
        });
        gen.if(_`${dup} !== undefined`, () => {
          gen.assign(i, dup);
          cxt.error();
          gen.assign(valid, false);
        });
      }
    },
  };
}
