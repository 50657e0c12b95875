/** The users module as the API sees it: the admin's routes for people and the audit log. */
import type { Db } from '../store/db.js';
import type { RunningModule } from '../module.js';
import { userRoutes } from './routes.js';

export function usersModule(db: Db): RunningModule {
  return { name: 'users', routes: (app) => userRoutes(app, db) };
}
