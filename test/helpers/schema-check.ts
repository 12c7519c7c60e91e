import { Ajv } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS with `module.exports = formatsPlugin`: under ESM the default import is that function.
const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2020) => void;

/**
 * Holds values to the component schemas of a published document (OpenAPI: JSON Schema
 * 2020-12; AsyncAPI: draft-07), with ajv, a validator that is not ours. `check(name, value)`
 * throws with ajv's errors when the value does not match `#/components/schemas/<name>`.
 */
export function componentChecker(doc: { components?: unknown }, dialect: '2020-12' | 'draft-07') {
  const ajv = dialect === '2020-12' ? new Ajv2020({ strict: false, allErrors: true }) : new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const base = `https://docs.invalid/${dialect}`;
  ajv.addSchema({ $id: base, components: doc.components });
  return (name: string, value: unknown): void => {
    const validate = ajv.getSchema(`${base}#/components/schemas/${name}`);
    if (!validate) throw new Error(`the document has no schema ${name}`);
    if (!validate(value)) {
      throw new Error(`${name} does not match ${JSON.stringify(value).slice(0, 500)}: ${ajv.errorsText(validate.errors)}`);
    }
  };
}
