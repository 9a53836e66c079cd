/**
 * What the synthetic fleet is made of: sites in cities around a few time zones, and devices
 * of six kinds with their load profiles (PROFILES), laid out by fleetLayout from the sizes
 * alone (never the seed), so names and ids are the same on every call.
 */

export interface SiteDef {
  siteId: string;
  name: string;
  location: string;
  tzHours: number;
}
export interface DeviceDef {
  deviceId: string;
  name: string;
  type: DeviceType;
  site: number; // index into sites
  ip: string | null;
}

type DeviceType = 'pos_terminal' | 'payment_terminal' | 'kiosk' | 'router' | 'digital_signage' | 'inventory_scanner';

interface Profile {
  prefix: string;
  label: string;
  cpuBase: [number, number];
  cpuPeak: [number, number];
  /** Transactions per minute at peak load. */
  txPeak: [number, number];
  responseMs: [number, number];
}

export const PROFILES: Record<DeviceType, Profile> = {
  pos_terminal: {
    prefix: 'pos-terminal',
    label: 'POS Terminal',
    cpuBase: [6, 14],
    cpuPeak: [30, 50],
    txPeak: [3, 8],
    responseMs: [25, 60],
  },
  payment_terminal: {
    prefix: 'payment-terminal',
    label: 'Payment Terminal',
    cpuBase: [3, 8],
    cpuPeak: [15, 30],
    txPeak: [4, 10],
    responseMs: [30, 80],
  },
  kiosk: {
    prefix: 'kiosk',
    label: 'Self-Service Kiosk',
    cpuBase: [10, 20],
    cpuPeak: [20, 40],
    txPeak: [1, 4],
    responseMs: [40, 90],
  },
  router: { prefix: 'router', label: 'Router', cpuBase: [2, 6], cpuPeak: [8, 20], txPeak: [0, 0], responseMs: [5, 15] },
  digital_signage: {
    prefix: 'signage',
    label: 'Digital Signage',
    cpuBase: [15, 30],
    cpuPeak: [3, 8],
    txPeak: [0, 0],
    responseMs: [30, 70],
  },
  inventory_scanner: {
    prefix: 'scanner',
    label: 'Inventory Scanner',
    cpuBase: [3, 8],
    cpuPeak: [10, 20],
    txPeak: [1, 3],
    responseMs: [20, 50],
  },
};

/**
 * What a site holds: a POS terminal and a router, then a mix that is rotated from site to
 * site so that even a fleet of small sites has every kind of device.
 */
const SITE_MIX: DeviceType[] = [
  'payment_terminal',
  'kiosk',
  'pos_terminal',
  'digital_signage',
  'inventory_scanner',
  'pos_terminal',
];
function slotType(site: number, slot: number): DeviceType {
  if (slot === 0) return 'pos_terminal';
  if (slot === 1) return 'router';
  return SITE_MIX[(slot - 2 + site) % SITE_MIX.length]!;
}

const CITIES: Array<[string, string, number]> = [
  ['London', 'UK', 0],
  ['Manchester', 'UK', 0],
  ['Birmingham', 'UK', 0],
  ['Leeds', 'UK', 0],
  ['Glasgow', 'UK', 0],
  ['Dublin', 'Ireland', 0],
  ['Paris', 'France', 1],
  ['Berlin', 'Germany', 1],
  ['Madrid', 'Spain', 1],
  ['Amsterdam', 'Netherlands', 1],
  ['Milan', 'Italy', 1],
  ['Athens', 'Greece', 2],
  ['Helsinki', 'Finland', 2],
  ['New York', 'USA', -5],
  ['Chicago', 'USA', -6],
  ['Toronto', 'Canada', -5],
];
const SITE_KINDS = ['Central', 'High Street', 'Retail Park', 'Station', 'Airport', 'Mall', 'Outlet', 'Express'];

const pad = (n: number) => String(n).padStart(3, '0');

/** Sites and devices depend only on the sizes (not on the seed), so ids are stable across calls. */
export function fleetLayout(siteCount: number, devicesPerSite: number): { sites: SiteDef[]; devices: DeviceDef[] } {
  const sites: SiteDef[] = [];
  const devices: DeviceDef[] = [];
  const counters = new Map<DeviceType, number>();
  for (let s = 0; s < siteCount; s++) {
    const [city, country, tz] = CITIES[s % CITIES.length]!;
    const kind = SITE_KINDS[Math.floor(s / CITIES.length) % SITE_KINDS.length]!;
    const round = Math.floor(s / (CITIES.length * SITE_KINDS.length));
    sites.push({
      siteId: `SITE-${pad(s + 1)}`,
      name: `${city} ${kind}${round ? ` ${round + 1}` : ''}`,
      location: `${city}, ${country}`,
      tzHours: tz,
    });
    for (let slot = 0; slot < devicesPerSite; slot++) {
      const type = slotType(s, slot);
      const n = (counters.get(type) ?? 0) + 1;
      counters.set(type, n);
      const p = PROFILES[type];
      devices.push({
        deviceId: `${p.prefix}-${pad(n)}`,
        name: `${p.label} ${pad(n)}`,
        type,
        site: s,
        ip: s < 65_536 && slot < 240 ? `10.${s >> 8}.${s & 255}.${slot + 10}` : null,
      });
    }
  }
  return { sites, devices };
}
