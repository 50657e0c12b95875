export { restoreMariadb, mariadbRowCounts } from './mariadb.js';
export { restorePostgres, postgresRowCounts } from './postgres.js';
export { restoreSqlite } from './sqlite.js';
export { restoreFiles } from './files.js';
export { restoreToFile, writeStreamAtomic } from './file.js';
export { InsertRebatcher } from './rebatch.js';
export { RestoreRefused, compareTables, type RestoreOptions, type RestoreReport } from './report.js';
export { restoreSnapshot, restoreServer, restoreTargets, WrongTarget, type RestoreTarget } from './target.js';
