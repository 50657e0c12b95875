/**
 * sentinela-agent's verbs: what each does, its options (AGENT_VERB_OPTIONS, shared with the hub's
 * restore guide) and examples; `--help` is generated from them. A verb's code is loaded only when it
 * runs: `run` does not load restore, drill or disk code, and `--help` loads none.
 */
import { AGENT_VERB_OPTIONS as O, SENTINELA_VERSION, defineVerb, type ProgramDef } from '@sentinela/shared/cli';

const CONFIG = '--config /etc/sentinela/agent.yaml';

export const AGENT_PROGRAM: ProgramDef = {
  name: 'sentinela-agent',
  version: SENTINELA_VERSION,
  description: "Keeps a health facility's server watched and its status flowing to the hub.",
  groups: {
    disk: 'USB backup disks: init (label a disk), list, eject (safe to unplug)',
    key: 'the backup key: init (create it), export (print the recovery code)',
    page: 'the local status page: set-pin (the PIN that unlocks its actions)',
  },
  epilogue: `Every verb takes -c, --config FILE (default /etc/sentinela/agent.yaml) and -h, --help.
Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.

Example:
  sentinela-agent status ${CONFIG}`,
  verbs: [
    defineVerb({
      name: 'run',
      summary: 'run the agent (what the systemd unit starts)',
      description: `Runs the agent: samples host and service health every sampling.intervalSeconds, stores status
and events in the outbox (<dataDir>/outbox.db) and sends them to the hub whenever it is reachable.
Logs are JSON lines on stdout. SIGTERM or SIGINT stops it cleanly.`,
      options: O.run,
      examples: [`sentinela-agent run ${CONFIG}`],
      run: async (input) => (await import('./run.js')).runVerb(input),
    }),
    defineVerb({
      name: 'enroll',
      summary: 'register this site with the hub using a one-time token',
      description: `Registers this site with the hub: exchanges the one-time enrolment token (made by the hub's
administrator) for the site's MQTT credentials and writes them, readable by this user only, to
hub.credentialsFile (default <dataDir>/credentials.json). Enrolling again replaces them.`,
      options: O.enroll,
      examples: [`sentinela-agent enroll ${CONFIG} --hub http://10.10.0.5:8080 --token enr_3kF9`],
      run: async (input) => (await import('./enroll.js')).enrollVerb(input),
    }),
    defineVerb({
      name: 'status',
      summary: 'green/amber/red for backups, power, network and server, the outbox queue (no hub needed)',
      description: `Shows whether this site is enrolled, and the outbox: messages waiting for the hub, their size,
the oldest one, messages dropped to stay under outbox.maxBytes, the last health sample and the
last contact with the hub, and the power line: mains, battery, low battery or no contact with the
UPS, charge, runtime and login or flap problems, as the running agent last saved it (its time is
shown). Reads local files only; works while the agent runs and while the hub is unreachable.
--json prints the document the local page's GET /api/status answers (green/amber/red per area,
recent events and outages; the live part is what the running agent's page saw last).`,
      options: O.status,
      examples: [`sentinela-agent status ${CONFIG} --json`],
      run: async (input) => (await import('./status.js')).statusVerb(input),
    }),
    defineVerb({
      name: 'backup',
      summary: 'back up now (every source, or --source NAME) into the local spool',
      description: `Backs up now, into the local spool (backup.spool): every configured source, or only --source NAME.
Each snapshot is a delta against the source's previous one. The running agent copies it to the USB
disks and the secondary server at its next look (usb.pollSeconds). Progress on stderr.
Exit 1 if a source failed, with the dump tool's own error text.`,
      options: O.backup,
      examples: [`sentinela-agent backup ${CONFIG} --source openmrs`],
      run: async (input) => (await import('./backup.js')).backupVerb(input),
    }),
    defineVerb({
      name: 'restore',
      summary: 'restore a snapshot from the spool, a USB disk, the secondary server or the hub',
      description: `Restores a snapshot (--snapshot ID, or --source NAME --latest) to one target (--to-file FILE,
--to-dir DIR or --to-database NAME), with progress on stderr, then checks the per-table row counts
against the snapshot's manifest (exit 1 if they differ). The content is checked against its
SHA-256 on the way: a damaged or tampered copy is refused. A database restore goes into a NEW
database; an existing database, file or non-empty folder is never replaced without --force.
--from hub downloads the hub's off-site copy first, with the escrowed key when the hub holds it
(--source NAME --latest takes the newest copy of that source the hub holds whole).`,
      options: O.restore,
      examples: [
        `sentinela-agent restore ${CONFIG} --source openmrs --latest --from usb --to-database openmrs_restored`,
        'sentinela-agent restore --from /media/backup-a --recovery-code XXXX-XXXX-… --source clinic --latest --to-file /srv/clinic.db',
        `sentinela-agent restore ${CONFIG} --from hub --source openmrs --latest --to-database openmrs`,
      ],
      run: async (input) => (await import('./restore.js')).restoreVerb(input),
    }),
    defineVerb({
      name: 'disk init',
      summary: 'make the mounted disk at PATH a backup disk of this site',
      description: `Makes the mounted disk at PATH a backup disk of this site: writes disk.json and an empty
repository. The agent then copies every backup to it whenever it is mounted under one of
usb.mountRoots, and reads each copy back. With --peer, PATH is the secondary server's mirror
folder (set backup.peer.path to it) instead of a USB disk.`,
      options: O['disk init'],
      args: [{ name: 'PATH', help: 'where the disk is mounted, e.g. /media/backup-a', required: true }],
      examples: [`sentinela-agent disk init /media/backup-a --label "disco A" ${CONFIG}`],
      run: async (input) => (await import('./disk.js')).diskInitVerb(input),
    }),
    defineVerb({
      name: 'disk list',
      summary: "the site's disks: when each was last attached, its last copy, what it holds",
      description: "Lists the site's backup disks: when each was last attached, its last copy, what it holds.",
      options: O['disk list'],
      examples: [`sentinela-agent disk list ${CONFIG}`],
      run: async (input) => (await import('./disk.js')).diskListVerb(input),
    }),
    defineVerb({
      name: 'disk eject',
      summary: 'stop a copy cleanly, flush, unmount: safe to unplug',
      description: `Stops a copy under way cleanly (it resumes next time; --wait lets it finish instead), flushes
everything to the disk, unmounts it (unless --no-unmount), and says when it is safe to unplug.`,
      options: O['disk eject'],
      args: [{ name: 'PATH', help: 'where the disk is mounted', required: true }],
      examples: [`sentinela-agent disk eject /media/backup-a ${CONFIG}`],
      run: async (input) => (await import('./disk.js')).diskEjectVerb(input),
    }),
    defineVerb({
      name: 'snapshots',
      summary: 'list the snapshots of the spool (or of a disk with --from)',
      description: `Lists the complete snapshots, oldest first: id, source, kind, time, full or delta (and its chain
depth), the size of the dump, the bytes it added to the repository, and how many tables it counted.
Reads the local spool (backup.spool, default <dataDir>/repository) or, with --from, any copy: a USB
disk, the secondary server's copy. Needs the backup key (backup.keyFile, default <dataDir>/backup.key)
or --recovery-code. A snapshot whose manifest is damaged is not listed: a WARNING on stderr names it
and the deltas that depend on it (which cannot be restored either), and the exit code is 1 (run verify).`,
      options: O.snapshots,
      examples: [`sentinela-agent snapshots ${CONFIG} --from usb --source openmrs`, 'sentinela-agent snapshots --from /mnt/secondary/sentinela --recovery-code XXXX-XXXX-…'],
      run: async (input) => (await import('./snapshots.js')).snapshotsVerb(input),
    }),
    defineVerb({
      name: 'verify',
      summary: 'check a repository; --read-data reads and decrypts every object',
      description: `Checks a repository: every snapshot's manifest decrypts and is valid, every base and object it needs
is there. With --read-data it also reads every object, checks its SHA-256, decrypts it (tampering
fails authentication), and rebuilds the newest snapshot of each source end to end. Progress on
stderr. Exit code 1 when a problem is found; each is named (kind, object or snapshot, detail); a
damaged full snapshot's problem names the deltas that depend on it. Objects no snapshot lists (left
by forget, or by a backup still running) and leftover .tmp-* files are reported as garbage, not
problems: prune removes them.`,
      options: O.verify,
      examples: [`sentinela-agent verify ${CONFIG} --from usb --read-data`],
      run: async (input) => (await import('./verify.js')).verifyVerb(input),
    }),
    defineVerb({
      name: 'prune',
      summary: 'remove objects no snapshot lists and leftover .tmp-* files (--dry-run lists them)',
      description: `Removes the objects no snapshot file lists (after forget, or an interrupted backup or copy) and
leftover .tmp-* files of interrupted writes. Files younger than the grace period (6 hours) are kept:
a backup or copy still running may be writing them. Needs no data read; a damaged snapshot file
stops it (its objects cannot be told from garbage: run verify). Progress on stderr.`,
      options: O.prune,
      examples: [`sentinela-agent prune ${CONFIG} --repo /media/backup1 --dry-run`],
      run: async (input) => (await import('./prune.js')).pruneVerb(input),
    }),
    defineVerb({
      name: 'key init',
      summary: "create the site's backup key (the first backup creates it too)",
      description: "Creates the site's backup key (backup.keyFile, default <dataDir>/backup.key, mode 0600) when it does not exist.",
      options: O['key init'],
      examples: [`sentinela-agent key init ${CONFIG}`],
      run: async (input) => (await import('./key.js')).keyInitVerb(input),
    }),
    defineVerb({
      name: 'key export',
      summary: "print the backup key's recovery code",
      description: `Prints the key's recovery code (14 groups of 4 characters). With a copy of the repository (a USB
disk) and this code, anyone can restore: keep it with the disks, never with the server.`,
      options: O['key export'],
      examples: [`sentinela-agent key export ${CONFIG}`],
      run: async (input) => (await import('./key.js')).keyExportVerb(input),
    }),
    defineVerb({
      name: 'drill',
      summary: 'a restore drill: the newest copy of each source, from every place, into a scratch copy, checked',
      description: `A restore drill, now: the newest snapshot of each source, from every place that holds it (the
spool, each attached USB disk of this site, the secondary server's mirror), restored into a
scratch target that never touches production: MariaDB into a throwaway server the drill starts
itself (mariadb-install-db + mariadbd on a temporary folder under <dataDir>/drills/scratch, unix
socket, no network), files and SQLite into temporary folders. Each copy is checked against the
facts its manifest recorded at backup time: per-table row counts and, for MariaDB, a checksum of
every table's rows. Records RTO (time to restore and check) and RPO (age of the data). The
scratch copies are removed afterwards; what a kill or a power cut left behind is removed at the
next drill. Runs at the lowest CPU and I/O priority. One line per copy on stderr as it finishes;
the report goes to stdout and to <dataDir>/drills/last.json. Exit 1 when any copy fails.`,
      options: O.drill,
      examples: [`sentinela-agent drill ${CONFIG}`],
      run: async (input) => (await import('./drill.js')).drillVerb(input),
    }),
    defineVerb({
      name: 'doctor',
      summary: 'check this server against its config: tools, database, UPS, hub, disk, clock, permissions',
      description: `Checks this server against its config and prints one finding per line, OK, WARN or FAIL, each
problem with what to do about it in Portuguese and English: the data folder (writable, free space:
WARN under 10 %, FAIL under 5 %), the outbox schema, enrolment and the modes of the credentials,
key and password files (0600), the hub (TCP; with mqtts the TLS certificate, trusted and not near
expiry), the clock (not before 2024; against the hub's clock when it answers), every backup
source (dump tool present and its version, the database reachable, a real login with the
configured credentials, and the backup user's rights) and the UPS daemon (when power: is configured).
Run it as the sentinela user to check what the service sees.
Exit 1 when anything FAILed, 0 otherwise (warnings included).`,
      options: O.doctor,
      examples: [`sudo -u sentinela sentinela-agent doctor ${CONFIG}`],
      run: async (input) => (await import('./doctor.js')).doctorVerb(input),
    }),
    defineVerb({
      name: 'page set-pin',
      summary: "set the PIN that unlocks the local status page's actions",
      description: `Sets the PIN that unlocks the local status page's actions (back up now, initialize or eject a USB
disk, verify, send status now). The PIN is 4 to 12 digits: asked for twice without echo on a
terminal, else the first line of --pin-file or of stdin. Only its scrypt hash is stored, in
page.pinFile (default <dataDir>/page-pin, mode 0600). The running agent uses the new PIN at once.
Without a PIN the page shows the actions disabled.`,
      options: O['page set-pin'],
      examples: [`echo 4821 | sentinela-agent page set-pin ${CONFIG}`],
      run: async (input) => (await import('./page.js')).setPinVerb(input),
    }),
  ],
};
