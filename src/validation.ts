import { validate, ValidationError } from 'class-validator';
import { normalizeFields } from './common/text';
import { badUserInput, FieldProblem } from './errors';

function problems(errors: ValidationError[], prefix = ''): FieldProblem[] {
  return errors.flatMap((error) => {
    const field = prefix ? `${prefix}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...problems(error.children ?? [], field)];
  });
}

/**
 * Normalizes (the fields' declared `Normalized` rules) and then validates a raw input against
 * its class-validator class, once, at the edge: what passes is exactly what is stored. Unknown
 * properties are rejected; every failing field is listed in `extensions.validation`.
 */
export async function validateInput<T extends object>(cls: new () => T, raw: unknown, field = 'input'): Promise<T> {
  const input = Object.assign(new cls(), raw ?? {});
  normalizeFields(input);
  for (const value of Object.values(input)) if (value !== null && typeof value === 'object' && !Array.isArray(value)) normalizeFields(value);
  const errors = await validate(input, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true });
  if (errors.length > 0) throw badUserInput(problems(errors, field));
  return input;
}
