import { readFileSync } from 'node:fs';
import {
  buildClientSchema,
  buildSchema,
  getIntrospectionQuery,
  GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  lexicographicSortSchema,
  printSchema,
} from 'graphql';
import { schemaPath } from '../src/schema';
import { factories } from './factories';
import { startTestServer } from './harness';

const fileSchema = () => buildSchema(readFileSync(schemaPath(), 'utf8'));

/** Every named thing in the schema that lacks a description, as `Type.field(arg)` paths. */
function undocumented(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
    if (!type.description) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!field.description) missing.push(`${type.name}.${field.name}`);
        for (const arg of 'args' in field ? field.args : []) {
          if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    if (isEnumType(type)) {
      for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing;
}

describe('schema.graphql', () => {
  it('describes every type, field, argument, input field and enum value', () => {
    expect(undocumented(fileSchema())).toEqual([]);
  });

  it('is exactly the schema the server serves (descriptions included)', async () => {
    const t = await startTestServer();
    try {
      const user = await factories(t.dataSource).user();
      const result = await t.gql(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }), {}, { as: user });
      expect(result.errors).toBeUndefined();
      const served = buildClientSchema(result.data);
      expect(printSchema(lexicographicSortSchema(served))).toBe(printSchema(lexicographicSortSchema(fileSchema())));
    } finally {
      await t.close();
    }
  });
});
