export {
  type KnexMigration,
  type MigrationOptions,
  toKnexCliError,
  withOneLineConnectFailures,
} from '../migrations';
