// For blocks that show some fields of the payment workflow's definition and elide the rest with
// `// ...`: a defineWorkflow that takes part of that definition, each field fully typed.
import type { WorkflowDefinition } from '@ironflow/core';
import type { PayDecision, PayEvent, PayInput, PayState } from '../modules/payment.js';

declare function defineWorkflow(definition: Partial<WorkflowDefinition<PayState, PayInput, PayEvent, PayDecision>>): unknown;
