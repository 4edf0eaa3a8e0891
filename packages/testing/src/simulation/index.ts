export { DEFAULT_FAULTS, SimulationFailure, simulate } from './simulate.js';
export type { SimulatedInstance, SimulationFaults, SimulationInput, SimulationInvariant, SimulationOptions, SimulationRandom, SimulationReport, SimulationView } from './simulate.js';
