// A known class of bug, reintroduced on purpose by the test that shows the deterministic simulator
// (`simulate` of @ironflow/testing) finds it. Off unless a test turns it on, for the length of that
// test; nothing else may set it. (The memory store has its own: `memoryStoreTestBugs`.)

/** Switches of deliberate bugs, all off. */
export const testBugs = {
  /**
   * A routed result is committed without its acknowledgement: the commit no longer checks the
   * lease (a lost or expired lease does not stop it) and leaves the effect or timer leased, so it
   * runs again and its result is applied twice.
   */
  unfencedRouting: false,
};
