/**
 * `npm run lint:schema`: graphql-schema-linter over schema.graphql (run in .ci/run).
 *
 * Every rule is on except the four ordering rules (type fields, input fields, interface fields and
 * enum values sorted alphabetically): the schema orders by meaning, as readers and generated
 * clients see it — `id` first, then what an object is, then its relations and times; enum values
 * in lifecycle order (PENDING → SYNCING → SYNCED → FAILED) or the contract's order, where the first
 * value is the default. Sorting would scatter each type's story and change nothing for a machine.
 */
module.exports = {
  rules: [
    'arguments-have-descriptions',
    'defined-types-are-used',
    'deprecations-have-a-reason',
    'descriptions-are-capitalized',
    'enum-values-all-caps',
    'enum-values-have-descriptions',
    'fields-are-camel-cased',
    'fields-have-descriptions',
    'input-object-values-are-camel-cased',
    'input-object-values-have-descriptions',
    'relay-connection-types-spec',
    'relay-connection-arguments-spec',
    'relay-page-info-spec',
    'types-are-capitalized',
    'types-have-descriptions',
  ],
  schemaPaths: ['schema.graphql'],
};
