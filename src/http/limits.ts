import { ApolloArmor } from '@escape.tech/graphql-armor';
import { Config } from '../config';
import { queryCostPlugin } from './query-cost';

/**
 * Query limits: depth, aliases and directives from graphql-armor; a page-size-aware cost limit of
 * our own (armor's ignores `first` passed as a variable); field suggestions hidden in production.
 * Armor's token limit stays off: it turns syntax errors into 500s.
 */
export function queryLimits(config: Config) {
  const armor = new ApolloArmor({
    maxTokens: { enabled: false },
    costLimit: { enabled: false },
    maxDepth: { enabled: true, n: config.maxQueryDepth, ignoreIntrospection: true },
    maxAliases: { enabled: true, n: 15 },
    maxDirectives: { enabled: true, n: 20 },
    blockFieldSuggestion: { enabled: config.production },
  }).protect();
  return {
    validationRules: armor.validationRules,
    plugins: [...armor.plugins, queryCostPlugin(config.maxQueryCost)],
  };
}
