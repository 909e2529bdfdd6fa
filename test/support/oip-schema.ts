import { Ajv } from 'ajv';
import { OIP_SCHEMAS, type OipSchemaName } from '../fixtures/oip-rest-schemas.js';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
ajv.addSchema(OIP_SCHEMAS.tensor_data);

/** The specification's schema errors for `value`, as text; empty when it conforms. */
export function schemaErrors(name: OipSchemaName, value: unknown): string {
  const validate = ajv.compile(OIP_SCHEMAS[name]);
  if (validate(value)) return '';
  return ajv.errorsText(validate.errors, { dataVar: name });
}
