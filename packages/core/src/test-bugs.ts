// Two known classes of bug, reintroduced on purpose by the tests that show the deterministic
// simulator (`simulate` of @ironflow/testing) finds them. Off unless a test turns one on, for the
// length of that test; nothing else may set them.

/** Switches of deliberate bugs, all off. */
export const testBugs = {
  /**
   * A routed result is committed without its acknowledgement: the commit no longer checks the
   * lease (a lost or expired lease does not stop it) and leaves the effect or timer leased, so it
   * runs again and its result is applied twice.
   */
  unfencedRouting: false,
  /**
   * The memory store counts an attempt when a claimed row is settled instead of when it is claimed:
   * a worker that dies holding the row costs it nothing, so a row that kills its workers is claimed
   * for ever (ADR 0003 is why attempts are counted at claim).
   */
  attemptsAtCompletion: false,
};
