// Great-circle distance between two points on the Earth (haversine formula).
// The fallback cost between regions when no round-trip time is measured.

export interface LatLon {
  latitude: number;
  longitude: number;
}

const EARTH_RADIUS_KM = 6371.0088;
const RAD = Math.PI / 180;

export function greatCircleKm(a: LatLon, b: LatLon): number {
  const dLat = (b.latitude - a.latitude) * RAD;
  const dLon = (b.longitude - a.longitude) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.latitude * RAD) * Math.cos(b.latitude * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

// Light in fibre covers about 200 km per millisecond, so a round trip over a
// distance d takes at least d / 100 ms. This puts a distance on the same scale
// as a measured round-trip time.
export function estimatedRttMs(km: number): number {
  return km / 100;
}
