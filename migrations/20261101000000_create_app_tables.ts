import { appTablesMigration } from '../src/migrations';

/**
 * The app's `users` and `therapy_sessions`, created here only when missing; existing ones are
 * checked and left alone. `down` never drops them: they hold the app's data.
 */
export const { up, down } = appTablesMigration('20261101000000_create_app_tables');
