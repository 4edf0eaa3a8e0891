// A store someone is writing, for blocks about testing a store.
import type { WorkflowStore } from '@ironflow/core/store';

declare function createMyStore(options: { namespace: string }): WorkflowStore & { close(): Promise<void>; destroy(): Promise<void> };
