/** Leaflet as the global `L`: the drawing plug-in (leaflet-geoman) extends it there. */
import L from "leaflet";

(window as unknown as { L: typeof L }).L = L;

export default L;
