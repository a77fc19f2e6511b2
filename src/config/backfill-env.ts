export {
  BACKFILL_ENV_VARIABLES,
  type BackfillEnv,
  backfillEnvOptions,
  HEALTH_QUERY_VARIABLE,
  logSettingsFromEnv,
  readBackfillEnv,
  schemaFromEnv,
  workersFromEnv,
} from '../options';
