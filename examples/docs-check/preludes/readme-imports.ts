// The imports the root README's example lists in a sentence under the block instead of in it.
import { accept, defineWorkflow, reject } from '@ironflow/core';
import { createEngine, register } from '@ironflow/runtime';
import { createMemoryStore } from '@ironflow/store-memory';
