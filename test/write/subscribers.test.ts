/**
 * Issue #23: the order of ormconfig's SUBSCRIBERS list must not matter. TypeORM broadcasts an
 * entity event to the subscribers in list order, so two subscribers handling the same event of
 * the same entity would make the list's order decide which effect comes first. None may: each
 * (entity, hook) pair has one subscriber, and a subscriber that listens to every entity (no
 * `listenTo`) shares no hook with any other.
 */
import { EntitySubscriberInterface } from 'typeorm';
import { SUBSCRIBERS } from '../../ormconfig';

const HOOK = /^(before|after)[A-Z]\w*$/;

/** `entity name:hook` for every hook a subscriber defines; `*` for a subscriber of every entity. */
function handled(subscribers: Function[]): string[] {
  return subscribers.flatMap((Subscriber) => {
    const instance = new (Subscriber as new () => EntitySubscriberInterface)();
    const target = instance.listenTo?.();
    const entity = typeof target === 'function' ? target.name : String(target ?? '*');
    return Object.getOwnPropertyNames(Subscriber.prototype)
      .filter((name) => HOOK.test(name))
      .map((hook) => `${entity}:${hook}`);
  });
}

/** The pairs handled twice, or by a catch-all subscriber and another one. */
function clashes(subscribers: Function[]): string[] {
  const pairs = handled(subscribers);
  const hooksOfAll = new Set(pairs.filter((p) => p.startsWith('*:')).map((p) => p.slice(2)));
  return pairs.filter((pair, i) => pairs.indexOf(pair) !== i || (!pair.startsWith('*:') && hooksOfAll.has(pair.split(':')[1])));
}

describe('the entity subscribers', () => {
  it('never handle the same event of the same entity twice, so their order does not matter', () => {
    expect(handled(SUBSCRIBERS).length).toBeGreaterThan(20);
    expect(clashes(SUBSCRIBERS)).toEqual([]);
  });

  it('would be caught handling one event twice (the check itself)', () => {
    class A {
      listenTo() {
        return Date;
      }
      beforeRemove() {}
      afterInsert() {}
    }
    class B {
      listenTo() {
        return Date;
      }
      beforeRemove() {}
    }
    class All {
      afterInsert() {}
    }
    expect(clashes([A, B]).sort()).toEqual(['Date:beforeRemove']);
    expect(clashes([A, All])).toEqual(['Date:afterInsert']);
    expect(clashes([A])).toEqual([]);
  });
});
