export {
  APP_TIME_ZONE_SQL,
  applySessionSettings,
  pinSearchPath,
  resetSessionSettings,
  restoreSearchPath,
  type SessionSettings,
} from './connection';
