// For blocks that show some fields of the checkout workflow's definition and elide the rest with
// `// ...`: a defineWorkflow that takes part of that definition, each field fully typed.
import type { WorkflowDefinition } from '@ironflow/core';
import type { CheckoutDecision, CheckoutEvent, CheckoutInput, CheckoutState } from '../modules/checkout.js';

declare function defineWorkflow(definition: Partial<WorkflowDefinition<CheckoutState, CheckoutInput, CheckoutEvent, CheckoutDecision>>): unknown;
