// CycloneDX's pattern for a hash value: 32, 40, 64, 96 or 128 hexadecimal digits. The schema and the
// CycloneDX library write it as five alternatives, which a regular expression engine tries one after
// the other, each scanning the value again: 360 steps for a 128-digit SHA-512, the hash of nearly every
// npm package. Written as one prefix of 32 digits and nested optional parts, the same strings match in
// at most 136 steps (three times faster here), and the SBOM is validated once by the library's
// normalizer and once by the schema. The build puts LINEAR where either form is (compile-cdx-validator.cjs
// for the precompiled validator, bundle.mjs for the library), and fails if the form is no longer there;
// a test checks that the three match the same strings.
const digits = (n) => `[a-fA-F0-9]{${n}}`;
const LENGTHS = [32, 40, 64, 96, 128];

module.exports = {
  LENGTHS,
  /** As the CycloneDX 1.6 JSON schema writes it (definitions/hash-content/pattern). */
  SCHEMA_FORM: `^(${LENGTHS.map(digits).join('|')})$`,
  /** As the library's spec constants write it (a RegExp literal's source). */
  LIBRARY_FORM: LENGTHS.map((n) => `^(${digits(n)})$`).join('|'),
  /** 32 digits, then nothing, 8 more (40), or 32 more (64) followed by up to two times 32 (96, 128). */
  LINEAR: `^${digits(32)}(?:${digits(8)}|${digits(32)}(?:${digits(32)}(?:${digits(32)})?)?)?$`,
};
