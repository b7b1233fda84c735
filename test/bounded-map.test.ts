/** BoundedMap (src/common/bounded-map.ts) against a list model of least-recently-used order. */
import fc from 'fast-check';
import { BoundedMap } from '../src/common/bounded-map';

type Op = { kind: 'get' | 'set' | 'delete'; key: number; value: number };

it('keeps the most recently used entries within its capacity and reports what it evicts', () => {
  const op = fc.record({ kind: fc.constantFrom<Op['kind']>('get', 'set', 'set', 'delete'), key: fc.integer({ min: 0, max: 12 }), value: fc.integer() });
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 200 }), (capacity, ops) => {
      const map = new BoundedMap<number, number>(capacity);
      let model: [number, number][] = []; // least recent first
      for (const { kind, key, value } of ops) {
        const at = model.findIndex(([k]) => k === key);
        if (kind === 'get') {
          expect(map.get(key)).toBe(at < 0 ? undefined : model[at][1]);
          if (at >= 0) model.push(...model.splice(at, 1));
        } else if (kind === 'delete') {
          expect(map.delete(key)).toBe(at >= 0);
          if (at >= 0) model.splice(at, 1);
        } else {
          if (at >= 0) model.splice(at, 1);
          model.push([key, value]);
          const evicted = model.length > capacity ? model.slice(0, model.length - capacity).map(([k]) => k) : [];
          model = model.slice(-capacity);
          expect(map.set(key, value)).toEqual(evicted);
        }
        expect(map.size).toBe(model.length);
        expect(map.size).toBeLessThanOrEqual(capacity);
      }
    }),
  );
});
