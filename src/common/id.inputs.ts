import { ArrayMaxSize, IsArray, isEmail, IsEnum, ValidateBy, ValidationOptions } from 'class-validator';
import { isUuid, MAX_IDS_PER_CALL } from '../ids';
import { isStorableText } from './text';

/** An id, by the rules of src/ids.ts. */
export function IsId(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isId', validator: { validate: (value) => isUuid(value), defaultMessage: () => 'must be a UUID' } },
    { message: (args) => (Array.isArray(args.value) ? 'each id must be a UUID' : 'must be a UUID'), ...options },
  );
}

/** A list of at most MAX_IDS_PER_CALL ids. */
export function IsIdList(): PropertyDecorator {
  return (target, property) => {
    IsArray({ message: 'must be a list of ids' })(target, property);
    ArrayMaxSize(MAX_IDS_PER_CALL, { message: `must name at most ${MAX_IDS_PER_CALL} ids` })(target, property);
    IsId({ each: true, message: 'each id must be a UUID' })(target, property);
  };
}

/** Text PostgreSQL can store as given: no NUL characters, no lone surrogates (bad input must
 * never become a 500). Non-strings are left to the type check next to it, so a field is reported once. */
export function IsStorableText(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStorableText',
      validator: {
        validate: (value) => typeof value !== 'string' || isStorableText(value),
        defaultMessage: () => 'must be text without NUL characters or lone surrogates',
      },
    },
    options,
  );
}

/** An email address in ASCII (see `normalizeEmail`). class-validator's IsEmail throws (a URIError)
 * on lone surrogates; here any such input is simply not an email address. */
export function IsEmailAddress(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isEmailAddress',
      validator: {
        validate: (value) => typeof value === 'string' && isStorableText(value) && /^[\x21-\x7e]+$/.test(value) && isEmail(value),
        defaultMessage: () => 'must be an email address of ASCII characters (internationalized addresses are not accepted)',
      },
    },
    options,
  );
}

/** One value of an enum (an entity's copy of a schema enum); the message lists the values from the
 * enum itself, so it names a value the schema adds without another edit. */
export function IsOneOf(values: Readonly<Record<string, string>>): PropertyDecorator {
  const names = Object.values(values);
  return IsEnum(values, { message: `must be ${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` });
}

/** Not only whitespace. */
export function IsNotBlank(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isNotBlank', validator: { validate: (value) => typeof value === 'string' && value.trim() !== '', defaultMessage: () => 'must not be empty' } },
    options,
  );
}

/** The arguments of a mutation that names one row by id. */
export class IdArgs {
  @IsId()
  id: string;
}

/** Length in characters as PostgreSQL counts them (code points), from `min` to `max`; non-strings
 * are left to the type check next to it. */
export function HasLength(min: number, max: number): PropertyDecorator {
  return ValidateBy({
    name: 'hasLength',
    validator: {
      // A blank string is IsNotBlank's to report (every min > 0 field has it), so it is reported once.
      validate: (value) =>
        typeof value !== 'string' || (min > 0 && value.trim() === '') || ([...value].length >= min && [...value].length <= max),
      defaultMessage: () =>
        min > 0 ? `must be ${min} to ${max} characters long` : `must be at most ${max.toLocaleString('en-US')} characters long`,
    },
  });
}

/** For inputs with a nested input object: the nested plain object as an instance of its class,
 * so class-validator checks it (and names its fields `parent.child`). */
export function nested<T extends object>(cls: new () => T, raw: unknown): T | unknown {
  return raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? Object.assign(new cls(), raw) : raw;
}
