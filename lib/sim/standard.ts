/**
 * The course's 17 standard configs, in the order and with the words of its test-all
 * mode (PROTOCOL.md section 8), and the embedded default scenario of `deno task start`.
 *
 * @module
 */

/** One standard config. */
export interface StandardConfig {
  /** File name in the configs directory. */
  file: string;
  /** The heading it is listed under. */
  group: string;
  /** The course's one-line description. */
  description: string;
}

/** The 17 standard configs in the course's order. */
export const STANDARD_CONFIGS: readonly StandardConfig[] = [
  { file: "simple-1.json", group: "Basic tests:", description: "No drops, no failures, 80% read" },
  { file: "simple-2.json", group: "Basic tests:", description: "No drops, no failures, 20% read" },
  {
    file: "unreliable-1.json",
    group: "Unreliable network tests:",
    description: "5% drops, no failures, 20% read",
  },
  {
    file: "unreliable-2.json",
    group: "Unreliable network tests:",
    description: "10% drops, no failures, 20% read",
  },
  {
    file: "unreliable-3.json",
    group: "Unreliable network tests:",
    description: "15% drops, no failures, 20% read",
  },
  {
    file: "crash-1.json",
    group: "Crash failure tests:",
    description: "No drops, 1 replica failure, 20% read",
  },
  {
    file: "crash-2.json",
    group: "Crash failure tests:",
    description: "No drops, 2 replica failures, 20% read",
  },
  {
    file: "crash-3.json",
    group: "Crash failure tests:",
    description: "No drops, 1 leader failure, 20% read",
  },
  {
    file: "crash-4.json",
    group: "Crash failure tests:",
    description: "No drops, 2 leader failures, 20% read",
  },
  {
    file: "partition-1.json",
    group: "Partition tests:",
    description: "No drops, 1 easy partition, 20% read",
  },
  {
    file: "partition-2.json",
    group: "Partition tests:",
    description: "No drops, 2 easy partitions, 20% read",
  },
  {
    file: "partition-3.json",
    group: "Partition tests:",
    description: "No drops, 1 hard partition, 20% read",
  },
  {
    file: "partition-4.json",
    group: "Partition tests:",
    description: "No drops, 2 hard partitions, 20% read",
  },
  {
    file: "advanced-1.json",
    group: "Advanced tests:",
    description: "10% drops, 2 hard partitions and 1 leader failures, 20% read",
  },
  {
    file: "advanced-2.json",
    group: "Advanced tests:",
    description: "15% drops, 2 leader failures, 20% read",
  },
  {
    file: "advanced-3.json",
    group: "Advanced tests:",
    description: "30% drops, 1 leader failure, 20% read",
  },
  {
    file: "advanced-4.json",
    group: "Advanced tests:",
    description: "10% drops, 3 hard partions and 1 leader kill, 20% read",
  },
];

/** The course pauses this long between runs in its test-all mode. */
export const PAUSE_BETWEEN_RUNS_S = 10;

/**
 * The `deno task start` scenario: 14 s with 5 replicas, a hard partition that may cut
 * the leader off, and a leader kill once it has healed.
 */
export const DEFAULT_SCENARIO = {
  lifetime: 10,
  replicas: 5,
  requests: 200,
  mix: 0.5,
  drops: 0.02,
  start_wait: 2,
  end_wait: 2,
  events: [
    { type: "part_hard", time: 2 },
    { type: "part_end", time: 4.5 },
    { type: "kill_leader", time: 6.5 },
  ],
  tests: {
    benchmarks: {
      total_msgs: [1000, 2500, 4000],
      failures: [1, 10, 30],
      duplicates: [0, 2, 5],
      median_latency: [0.001, 0.005, 0.05],
    },
  },
} as const;
