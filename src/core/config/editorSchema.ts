/**
 * The schema VS Code's JSON language service gets for `*.rlens.json` (package.json `jsonValidation`):
 * the experiment schema with its descriptions, defaults and value proposals but without validation
 * keywords. Validation is Retrieval Lens' own (located messages in Problems, the same as the CLI's);
 * with the full schema the JSON service reported every config error a second time in its own words.
 * schemas/experiment.editor.schema.json is this function's output (`npm run schema:editor`; a test
 * checks it is up to date).
 */

/** Keywords that make the JSON service report problems. */
const VALIDATION_KEYWORDS = [
  'type',
  'enum',
  'const',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'pattern',
  'required',
  'additionalProperties',
  'format',
  'minItems',
  'maxItems',
  'uniqueItems',
];

type SchemaNode = { [k: string]: unknown };

function stripNode(node: SchemaNode): SchemaNode {
  const out: SchemaNode = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === 'properties' && typeof v === 'object' && v !== null) {
      out.properties = Object.fromEntries(Object.entries(v as Record<string, SchemaNode>).map(([name, sub]) => [name, stripNode(sub)]));
    } else if (k === 'items' && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      out.items = stripNode(v as SchemaNode);
    } else if (!VALIDATION_KEYWORDS.includes(k)) out[k] = v;
  }
  // A oneOf validates too (each alternative's type): dropped, its constants kept as proposals ("auto").
  const consts = Array.isArray(node.oneOf) ? (node.oneOf as SchemaNode[]).filter((a) => 'const' in a).map((a) => a.const) : [];
  delete out.oneOf;
  // Keep the value proposals the validation keywords gave: enum values, and true/false for booleans.
  const proposals = Array.isArray(node.enum) ? node.enum : node.type === 'boolean' ? [true, false] : consts.length > 0 ? consts : undefined;
  if (proposals) out.examples = proposals;
  return out;
}

/** The editor schema of an experiment schema (see the file comment). */
export function editorSchema(schema: object): object {
  const out = stripNode(schema as SchemaNode);
  out.$comment =
    'Generated from experiment.schema.json by src/core/config/editorSchema.ts (npm run schema:editor): no validation keywords, Retrieval Lens validates.';
  return out;
}
