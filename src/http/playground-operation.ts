/** What the playground is about to run: the operation's kind and name. */
export interface ChosenOperation {
  operation: 'query' | 'mutation' | 'subscription';
  name?: string;
}

/**
 * The operation `operationName` (or the only one) of `text`, read from the text itself: the
 * playground picks the transport from this, not from GraphiQL's parse of the editor, which lags
 * behind typing (Run right after an edit sent a subscription over HTTP). A scanner of GraphQL's
 * lexical grammar at the top level: comments, strings, block strings, and braces inside
 * variable definitions and directive arguments do not start a selection set. Undefined when no
 * operation matches (the server then explains).
 *
 * Self-contained: the playground page embeds its source (`operationOf.toString()`), and
 * test/e2e/playground-operation.test.ts compares it with graphql-js on generated documents.
 */
export function operationOf(text: string, operationName?: string | null): ChosenOperation | undefined {
  const operations: { operation: string; name?: string }[] = [];
  let braces = 0;
  let parens = 0;
  let pending: { operation: string; name?: string; nameNext: boolean } | undefined;
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '#') {
      while (i < text.length && text[i] !== '\n' && text[i] !== '\r') i++;
    } else if (text.startsWith('"""', i)) {
      i += 3;
      while (i < text.length && !text.startsWith('"""', i)) i += text.startsWith('\\"""', i) ? 4 : 1;
      i += 3;
    } else if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"' && text[i] !== '\n') i += text[i] === '\\' ? 2 : 1;
      i++;
    } else if (/[_A-Za-z]/.test(c)) {
      const start = i;
      while (i < text.length && /[_0-9A-Za-z]/.test(text[i])) i++;
      const word = text.slice(start, i);
      if (braces > 0 || parens > 0) continue;
      if (pending?.nameNext) {
        pending.name = word;
        pending.nameNext = false;
      } else if (!pending && (word === 'query' || word === 'mutation' || word === 'subscription' || word === 'fragment')) {
        pending = { operation: word, nameNext: word !== 'fragment' };
      }
    } else {
      if (c === '(') parens++;
      else if (c === ')') parens = Math.max(0, parens - 1);
      else if (c === '{' && parens === 0) {
        if (braces === 0) {
          const definition: { operation: string; name?: string } = pending ?? { operation: 'query' };
          if (definition.operation !== 'fragment') operations.push({ operation: definition.operation, name: definition.name });
          pending = undefined;
        }
        braces++;
      } else if (c === '}' && parens === 0) braces = Math.max(0, braces - 1);
      if (pending && !/[\s,]/.test(c)) pending.nameNext = false;
      i++;
    }
  }
  const chosen = operationName ? operations.find((o) => o.name === operationName) : operations.length === 1 ? operations[0] : undefined;
  return chosen ? { operation: chosen.operation as ChosenOperation['operation'], ...(chosen.name ? { name: chosen.name } : {}) } : undefined;
}
