// The fenced lease changes of settle_leases, as SQL text for one table. Versions 3, 4 and 9 of the
// schema write the function with these; given `reasons` false they write versions 3's and 4's text
// unchanged, and a change to how settlement writes rows is a new option.

/**
 * One table's branch of settle_leases: the five fenced updates of sql.ts, with the change's
 * fields for parameters. With `reasons` (version 9), a release makes the row claimable at the
 * change's availableAt (now when absent, as changes of earlier releases are) and, when it has a
 * reason, counts the release and keeps the reason as last_error.
 */
export function settleBranch(table: string, finalStatus: 'done' | 'fired', reasons = false): string {
  const held = `w.id = v_id AND w.status = 'leased' AND w.lease_token = v_token AND w.lease_expires_at > v_now`;
  const unlease = 'lease_owner = NULL, lease_token = NULL, lease_expires_at = NULL';
  return `      CASE v_op
        WHEN 'renew' THEN
          UPDATE ${table} w SET lease_expires_at = (v_change->>'expiresAt')::bigint, updated_at = v_now
           WHERE ${held};
        WHEN 'complete' THEN
          UPDATE ${table} w SET status = '${finalStatus}', ${unlease}, updated_at = v_now
           WHERE ${held};
        WHEN 'retry' THEN
          UPDATE ${table} w SET status = 'pending', available_at = (v_change->>'retryAt')::bigint,
                 last_error = v_change->>'error', ${unlease}, updated_at = v_now
           WHERE ${held};
        WHEN 'dead' THEN
          UPDATE ${table} w SET status = 'dead', last_error = v_change->>'error', ${unlease}, updated_at = v_now
           WHERE ${held};
        WHEN 'release' THEN
          UPDATE ${table} w SET status = 'pending', available_at = ${reasons ? "coalesce((v_change->>'availableAt')::bigint, v_now)" : 'v_now'}, attempts = greatest(w.attempts - 1, 0),
                 ${reasons ? `releases = w.releases + CASE WHEN v_change->>'reason' IS NULL THEN 0 ELSE 1 END,
                 last_error = coalesce(v_change->>'reason', w.last_error), ` : ''}${unlease}, updated_at = v_now
           WHERE ${held};
      END CASE;`;
}

/**
 * One table's UPDATE in settle_leases' set-based path: each change row `ch` of this kind applied as
 * the single statement of its op would (renew, complete, retry, dead, release), fenced the same way;
 * `reasons` as for settleBranch.
 */
export function settleSet(table: string, kind: 'effect' | 'timer', finalStatus: 'done' | 'fired', reasons = false): string {
  const renew = `ch.op = 'renew'`;
  return `      UPDATE ${table} w
         SET status = CASE ch.op WHEN 'renew' THEN w.status WHEN 'complete' THEN '${finalStatus}'
                                 WHEN 'dead' THEN 'dead' ELSE 'pending' END,
             lease_expires_at = CASE WHEN ${renew} THEN (ch.d->>'expiresAt')::bigint END,
             lease_token = CASE WHEN ${renew} THEN w.lease_token END,
             lease_owner = CASE WHEN ${renew} THEN w.lease_owner END,
             available_at = CASE ch.op WHEN 'retry' THEN (ch.d->>'retryAt')::bigint WHEN 'release' THEN ${reasons ? "coalesce((ch.d->>'availableAt')::bigint, ch.now)" : 'ch.now'} ELSE w.available_at END,
             last_error = CASE WHEN ch.op IN ('retry', 'dead') THEN ch.d->>'error' ${reasons ? "WHEN ch.op = 'release' THEN coalesce(ch.d->>'reason', w.last_error) " : ''}ELSE w.last_error END,
             attempts = CASE WHEN ch.op = 'release' THEN greatest(w.attempts - 1, 0) ELSE w.attempts END,
${reasons ? "             releases = CASE WHEN ch.op = 'release' AND ch.d->>'reason' IS NOT NULL THEN w.releases + 1 ELSE w.releases END,\n" : ''}             updated_at = ch.now
        FROM ch
       WHERE ch.kind = '${kind}' AND w.id = ch.id AND w.status = 'leased' AND w.lease_token = ch.token AND w.lease_expires_at > ch.now
      RETURNING ch.idx, ch.op, ch.kind`;
}
