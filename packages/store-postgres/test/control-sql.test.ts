// The SQL text of control of live work checked without a server: the rank expression agrees with
// the core's aging constant, ending notifications are told from wake-ups, and page queries carry
// only the filters they were given.
import { describe, expect, it } from 'vitest';
import { MAX_PRIORITY, PRIORITY_AGING_MS, parseInstancePageQuery, parseWorkQuery } from '@ironflow/core/store';
import { rankOf } from '../src/claim-sql.js';
import { endedOf } from '../src/ended.js';
import { MIGRATIONS } from '../src/migrations.js';
import { listWorkQuery, pageInstancesQuery } from '../src/pages-sql.js';
import { parseSchemaName } from '../src/schema-name.js';

describe('claim rank', () => {
  it('is available_at - priority × PRIORITY_AGING_MS, as the claim indexes of schema version 4 write it', () => {
    expect(rankOf('w')).toBe(`w.available_at - w.priority * ${PRIORITY_AGING_MS}`);
    const version4 = MIGRATIONS.find((m) => m.version === 4)!.sql(parseSchemaName('ironflow'));
    expect(version4).toContain(`(available_at - priority * ${PRIORITY_AGING_MS})`);
    expect(version4).toContain(`CHECK (priority BETWEEN ${-MAX_PRIORITY} AND ${MAX_PRIORITY})`);
  });
});

describe('ending notifications', () => {
  it('are json objects naming the instance, its status and the store object that ended it', () => {
    expect(endedOf('{"ended": "cancelled", "type": "order", "id": "o-1", "from": "s1"}')).toEqual({ instance: { type: 'order', id: 'o-1', status: 'cancelled' }, from: 's1' });
    expect(endedOf('{"ended": "completed", "type": "order", "id": "o-1", "from": null}')).toEqual({ instance: { type: 'order', id: 'o-1', status: 'completed' }, from: undefined });
  });

  it('are never mistaken for wake-ups or anything malformed', () => {
    for (const payload of ['effect', 'timer', '{', '{}', 'null', '{"ended": "active", "type": "t", "id": "i"}', '{"ended": "completed", "type": 1, "id": "i"}']) {
      expect(endedOf(payload), payload).toBeUndefined();
    }
  });
});

describe('page queries', () => {
  it('a work page holds only the filters given, in order, and walks ids from the cursor', () => {
    const [text, values] = listWorkQuery('"s"', parseWorkQuery({ kind: 'effect', workflowType: 't', tag: 'gpu', after: '["e9"]', limit: 5 }));
    expect(text).toMatch(/ FROM "s"\.effects WHERE workflow_type = \$1::text AND tag = \$2::text AND id > \$3::text ORDER BY id LIMIT \$4$/);
    expect(values).toEqual(['t', 'gpu', 'e9', 5]);
    const [all] = listWorkQuery('"s"', parseWorkQuery({ kind: 'timer' }));
    expect(all).toMatch(/FROM "s"\.timers ORDER BY id LIMIT \$1$/);
  });

  it('an instance page filters children by their parent, and pages in (type, id) order', () => {
    const [text, values] = pageInstancesQuery('"s"', parseInstancePageQuery({ parent: { type: 'p', id: '1' }, status: 'active', after: '["t","b"]', limit: 2 }));
    expect(text).toMatch(/WHERE parent_type = \$1::text AND parent_id = \$2::text AND .* = \$3::text AND \(workflow_type, workflow_id\) > \(\$4::text, \$5::text\) ORDER BY workflow_type, workflow_id LIMIT \$6$/);
    expect(values).toEqual(['p', '1', 'active', 't', 'b', 2]);
  });
});
