/** A JSON value, as the pools hold them. */
export type PoolJson = null | boolean | number | string | PoolJson[] | { [key: string]: PoolJson };

/** One action item as the extraction service writes it; the generator varies it per kind. */
export interface PoolTask {
  [key: string]: PoolJson;
  task: string;
  category: PoolJson;
  details: PoolJson;
}
