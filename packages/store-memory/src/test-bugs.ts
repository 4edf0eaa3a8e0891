// A known class of bug, reintroduced on purpose by the test that shows the deterministic simulator
// (`simulate` of @ironflow/testing) finds it. Off unless a test turns it on, for the length of that
// test; nothing else may set it.

/** Switches of deliberate bugs in the memory store, all off. */
export const memoryStoreTestBugs = {
  /**
   * An attempt is counted when a claimed row is settled instead of when it is claimed: a worker
   * that dies holding the row costs it nothing, so a row that kills its workers is claimed for ever
   * (ADR 0003 is why attempts are counted at claim).
   */
  attemptsAtCompletion: false,
};
