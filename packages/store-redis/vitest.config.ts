import { defineProject, mergeConfig } from 'vitest/config';
import { shared } from '../../vitest.shared.ts';

// Files run one at a time: one test flips the server's maxmemory-policy and another kills
// pub/sub connections, which must not race with other files' setup on the same server.
export default mergeConfig(shared, defineProject({ test: { name: 'store-redis', fileParallelism: false } }));
