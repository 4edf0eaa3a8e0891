// A second workflow, with no effects, that blocks register beside another one.
import { shipment } from '../modules/shipment.js';
