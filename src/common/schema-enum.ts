/**
 * A schema enum's values as an object (`Role.ADMIN`), for the entities and the database enums.
 * An object literal that `satisfies` it names every value of the generated union once and nothing
 * else, so a value added to schema.graphql is a type error there until the code lists it; the
 * migrations test (test/migrations.test.ts) then fails until a migration adds it to the database enum
 * (migrations stay as they ran: a fresh database must get what an old one got).
 */
export type SchemaEnum<T extends string> = { [K in T]: K };
