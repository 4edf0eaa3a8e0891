// What an action reports on the page it redirects to: a key in the query (`?notice=redriven`) named
// from a fixed list, so no text of the request is ever echoed as a message.

const NOTICES = {
  redriven: { text: 'Re-driven: the item is pending again with its attempts reset.', ok: true },
  'not-dead': { text: 'Nothing re-driven: the item is no longer a dead letter.', ok: false },
  cancelled: { text: 'Cancelled: the instance and its pending work were cancelled.', ok: true },
  handled: { text: "The workflow's onCancel input was decided: the instance handles its own cancellation.", ok: true },
  'not-active': { text: 'Nothing cancelled: the instance does not exist or has already ended.', ok: false },
  paused: { text: 'Paused: its effects and timers stay pending until resumed.', ok: true },
  'already-paused': { text: 'Already paused: nothing changed.', ok: false },
  resumed: { text: 'Resumed: due work is claimed again.', ok: true },
  'not-paused': { text: 'Not paused: nothing changed.', ok: false },
  'projection-redriven': { text: "Re-driven: the projection's runner tries the event again.", ok: true },
  'not-parked': { text: 'Nothing re-driven: there is no parked dead letter by that id (re-driven or skipped already).', ok: false },
  skipped: { text: 'Skipped: the dead letter is deleted; its event stays unprojected.', ok: true },
  'no-dead-letter': { text: 'Nothing skipped: there is no dead letter by that id.', ok: false },
  'projection-reset': { text: 'Reset: the projection resumes from its new checkpoint when its runner next claims it.', ok: true },
} as const;

/** The key of a notice. */
export type NoticeKey = keyof typeof NOTICES;

/** A message shown at the top of a page. */
export interface Notice {
  readonly text: string;
  readonly ok: boolean;
}

/** The notice a query names, or undefined for none or an unknown key. */
export function noticeOf(key: string | null): Notice | undefined {
  return key !== null && Object.hasOwn(NOTICES, key) ? NOTICES[key as NoticeKey] : undefined;
}
