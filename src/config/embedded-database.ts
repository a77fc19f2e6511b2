export {
  EMBEDDED_OPEN_TIMEOUT_MS,
  EMBEDDED_PACKAGES,
  EMBEDDED_POSTGRES_MAJOR,
  embeddedDataDirectory,
  embeddedKnexConfig,
  inMemoryKnexConfig,
  lockFileOf,
  openFailureCode,
  ROOM_TO_START_BYTES,
} from './embedded';
