/** Help texts: what each verb does, with an example. */
export const PROGRAM_HELP = `sentinela-agent: keeps a health facility's server watched and its status flowing to the hub.

usage: sentinela-agent <verb> [options]

verbs:
  run        run the agent (what the systemd unit starts)
  enroll     register this site with the hub using a one-time token
  status     green/amber/red for backups, power, network and server, the outbox queue (no hub needed)
  backup     back up now (every source, or --source NAME) into the local spool
  restore    restore a snapshot from the spool, a USB disk, the secondary server or the hub
  disk       USB backup disks: init (label a disk), list, eject (safe to unplug)
  snapshots  list the snapshots of the spool (or of a disk with --repo)
  verify     check a repository; --read-data reads and decrypts every object
  prune      remove objects no snapshot lists and leftover .tmp-* files (--dry-run lists them)
  key        the backup key: init (create it), export (print the recovery code)
  drill      a restore drill: the newest copy of each source, from every place, into a scratch copy, checked
  doctor     check this server against its config: tools, database, UPS, hub, disk, clock, permissions
  page       the local status page: set-pin (the PIN that unlocks its actions)

every verb takes --config FILE and --help.
exit codes: 0 ok, 1 runtime failure, 2 usage or config error.

example:
  sentinela-agent status --config /etc/sentinela/agent.yaml
`;

export const VERB_HELP: Record<string, string> = {
  drill: `sentinela-agent drill --config FILE [--source NAME] [--from WHERE] [--json]

A restore drill, now: the newest snapshot of each source, from every place that holds it (the
spool, each attached USB disk of this site, the secondary server's mirror, and the hub's off-site
copy when offsite is on, downloaded first), restored into a scratch target that never touches
production: MariaDB and PostgreSQL into a throwaway server the drill starts itself
(mariadb-install-db + mariadbd, initdb + postgres, on a temporary folder under
<dataDir>/drills/scratch, unix socket, no network) or the drills.scratchMariadb/scratchPostgres
server, files and SQLite into temporary folders. Each copy is checked against the facts its
manifest recorded at backup time: per-table row counts and a checksum of every table's rows for
databases (the restored copy is dumped again and compared), the SHA-256 of every file for
folders. Records RTO (time to fetch, restore and check; starting the scratch server is not
counted) and RPO (age of the data). The scratch copies are removed afterwards; what a kill or a
power cut left behind is removed at the next drill. Runs at the lowest CPU and I/O priority.
The report goes to stdout and to <dataDir>/drills/last.json. Exit 1 when any copy fails.

options:
  --config FILE   agent.yaml (required)
  --source NAME   only this source
  --from WHERE    only this place: spool, usb, peer, hub, or a folder
  --json          print the report as JSON

example:
  sentinela-agent drill --config /etc/sentinela/agent.yaml
`,
  page: `sentinela-agent page set-pin --config FILE [--pin-file FILE]

Sets the PIN that unlocks the local status page's actions (back up now, initialize or eject a USB
disk, verify, send status now). The PIN is 4 to 12 digits, read from the first line of --pin-file
or of stdin; only its scrypt hash is stored, in page.pinFile (default <dataDir>/page-pin, mode 0600).
The running agent uses the new PIN at once. Without a PIN the page shows the actions disabled.

options:
  --config FILE     agent.yaml (required)
  --pin-file FILE   a file whose first line is the PIN (default: read stdin)

example:
  echo 4821 | sentinela-agent page set-pin --config /etc/sentinela/agent.yaml
`,
  run: `sentinela-agent run --config FILE

Runs the agent: samples host and service health every sampling.intervalSeconds, stores status
and events in the outbox (<dataDir>/outbox.db) and sends them to the hub whenever it is reachable.
Logs are JSON lines on stdout. SIGTERM or SIGINT stops it cleanly.

options:
  --config FILE   agent.yaml (required)

example:
  sentinela-agent run --config /etc/sentinela/agent.yaml
`,
  enroll: `sentinela-agent enroll --config FILE --hub URL --token TOKEN

Registers this site with the hub: exchanges the one-time enrolment token (made by the hub's
administrator) for the site's MQTT credentials and writes them, readable by this user only, to
hub.credentialsFile (default <dataDir>/credentials.json). Enrolling again replaces them.

options:
  --config FILE   agent.yaml (required)
  --hub URL       the hub's HTTP address, e.g. http://10.10.0.5:8080 (required); an https://
                  hub must have a certificate signed by the CA in hub.caFile (or a system CA)
  --token TOKEN   the enrolment token (required)

example:
  sentinela-agent enroll --config /etc/sentinela/agent.yaml --hub http://10.10.0.5:8080 --token enr_3kF...
`,
  status: `sentinela-agent status --config FILE [--json]

Shows whether this site is enrolled, and the outbox: messages waiting for the hub, their size,
the oldest one, messages dropped to stay under outbox.maxBytes, the last health sample and the
last contact with the hub, and the power line: mains, battery, low battery or no contact with the
UPS, charge, runtime and login or flap problems, as the running agent last saved it (its time is
shown). Reads local files only; works while the agent runs and while the hub is unreachable.

options:
  --config FILE   agent.yaml (required)
  --json          print JSON instead of a table: the same document as the local page's
                  GET /api/status (green/amber/red per area, recent events and outages; the
                  live part is what the running agent's page saw last, with its sampledAt)

example:
  sentinela-agent status --config /etc/sentinela/agent.yaml --json
`,
  backup: `sentinela-agent backup --config FILE [--source NAME] [--json]

Backs up now, into the local spool (backup.spool): every configured source, or only --source NAME.
Each snapshot is a delta against the source's previous one. The running agent copies it to the USB
disks and the secondary server at its next look (usb.pollSeconds). Progress on stderr.
Exit 1 if a source failed, with the dump tool's own error text.

options:
  --config FILE   agent.yaml (required)
  --source NAME   only this source
  --json          print the new snapshots as JSON

example:
  sentinela-agent backup --config /etc/sentinela/agent.yaml --source openmrs
`,
  restore: `sentinela-agent restore (--snapshot ID | --source NAME --latest) [--from WHERE]
                        (--to-file FILE | --to-dir DIR | --to-database NAME) [--force]

Restores a snapshot, with progress on stderr, then checks the per-table row counts against the
snapshot's manifest (exit 1 if they differ). The content is checked against its SHA-256 on the way:
a damaged or tampered copy is refused. A database restore goes into a NEW database; an existing
database, file or non-empty folder is never replaced without --force.

options:
  --config FILE         agent.yaml (for the key file, the spool and the database connection)
  --snapshot ID         the snapshot (see: sentinela-agent snapshots)
  --source NAME --latest  the newest snapshot of that source
  --from WHERE          spool (default), usb (the site's disk mounted now), peer (backup.peer.path),
                        hub (the hub's off-site copy, downloaded with the escrowed key; this
                        server must be enrolled; --source NAME --latest takes the newest copy of
                        that source the hub holds whole), or a folder: a USB disk's mount point, the
                        secondary server's mirror
  --to-file FILE        write the dump to FILE (SQLite: a database file, checked)
  --to-dir DIR          extract a files snapshot into DIR
  --to-database NAME    load a MariaDB/PostgreSQL snapshot into database NAME (created)
  --host H --port P --user U --password-file F   the database server (default: the source's)
  --force               replace an existing target
  --recovery-code CODE  the site's recovery code instead of the key file (a bare machine)
  --json                print the report as JSON

examples:
  sentinela-agent restore --config /etc/sentinela/agent.yaml --source openmrs --latest --from usb --to-database openmrs_restored
  sentinela-agent restore --from /media/backup-a --recovery-code XXXX-XXXX-… --source clinic --latest --to-file /srv/clinic.db
  sentinela-agent restore --config /etc/sentinela/agent.yaml --from hub --source openmrs --latest --to-database openmrs
`,
  disk: `sentinela-agent disk init PATH [--label NAME] [--peer] --config FILE
sentinela-agent disk list --config FILE [--json]
sentinela-agent disk eject PATH [--wait] [--no-unmount] --config FILE

init    makes the mounted disk at PATH a backup disk of this site: writes disk.json and an empty
        repository. The agent then copies every backup to it whenever it is mounted under one of
        usb.mountRoots, and reads each copy back. With --peer, PATH is the secondary server's
        mirror folder (set backup.peer.path to it) instead of a USB disk.
list    the site's disks: when each was last attached, its last copy, what it holds.
eject   stops a copy under way cleanly (it resumes next time; --wait lets it finish instead),
        flushes everything to the disk, unmounts it (unless --no-unmount), and says when it is
        safe to unplug.

examples:
  sentinela-agent disk init /media/backup-a --label "disco A" --config /etc/sentinela/agent.yaml
  sentinela-agent disk eject /media/backup-a --config /etc/sentinela/agent.yaml
`,
  snapshots: `sentinela-agent snapshots (--config FILE | --from FOLDER --recovery-code CODE) [--from WHERE] [--source NAME] [--json]

Lists the complete snapshots, oldest first: id, source, kind, time, full or delta (and its chain
depth), the size of the dump, the bytes it added to the repository, and how many tables it counted.
Reads the local spool (backup.spool, default <dataDir>/repository) or, with --repo, any copy: a USB
disk, the secondary server's copy. Needs the backup key (backup.keyFile, default <dataDir>/backup.key).
A snapshot whose manifest is damaged is not listed: a WARNING on stderr names it and the deltas
that depend on it (which cannot be restored either), and the exit code is 1 (run verify).

options:
  --config FILE   agent.yaml (the spool, the key file, the USB mount roots)
  --source NAME   only this source's snapshots
  --from WHERE    spool (default), usb (this site's disk mounted now), peer (backup.peer.path), or a
                  folder: a USB disk's mount point, the secondary server's mirror (--repo DIR: the same)
  --recovery-code CODE  the site's recovery code instead of the key file (a bare machine)
  --json          print the manifests as JSON

examples:
  sentinela-agent snapshots --config /etc/sentinela/agent.yaml --from usb --source openmrs
  sentinela-agent snapshots --from /mnt/secondary/sentinela --recovery-code XXXX-XXXX-…
`,
  verify: `sentinela-agent verify (--config FILE | --from FOLDER --recovery-code CODE) [--from WHERE] [--read-data] [--json]

Checks a repository: every snapshot's manifest decrypts and is valid, every base and object it needs
is there. With --read-data it also reads every object, checks its SHA-256, decrypts it (tampering
fails authentication), and rebuilds the newest snapshot of each source end to end. Progress on
stderr. Exit code 1 when a problem is found; each is named (kind, object or snapshot, detail); a
damaged full snapshot's problem names the deltas that depend on it. Objects no snapshot lists (left
by forget, or by a backup still running) and leftover .tmp-* files are reported as garbage, not
problems: prune removes them.

options:
  --config FILE   agent.yaml (the spool, the key file, the USB mount roots)
  --from WHERE    spool (default), usb, peer, or a folder (--repo DIR: the same)
  --recovery-code CODE  the site's recovery code instead of the key file (a bare machine)
  --read-data     read every object, not only check that it exists
  --json          print the report as JSON

example:
  sentinela-agent verify --config /etc/sentinela/agent.yaml --from usb --read-data
`,
  prune: `sentinela-agent prune --config FILE [--repo DIR] [--dry-run] [--grace-hours H] [--json]

Removes the objects no snapshot file lists (after forget, or an interrupted backup or copy) and
leftover .tmp-* files of interrupted writes. Files younger than the grace period (6 hours) are kept:
a backup or copy still running may be writing them. Needs no data read; a damaged snapshot file
stops it (its objects cannot be told from garbage: run verify). Progress on stderr.

options:
  --config FILE      agent.yaml (required)
  --repo DIR         another repository of this site (a mounted USB disk, say)
  --dry-run          only say what would be removed
  --grace-hours H    keep unreferenced files younger than H hours (default 6)
  --json             print the result as JSON

example:
  sentinela-agent prune --config /etc/sentinela/agent.yaml --repo /media/backup1 --dry-run
`,
  key: `sentinela-agent key init|export --config FILE

init     creates the site's backup key (backup.keyFile, default <dataDir>/backup.key, mode 0600)
         when it does not exist; the first backup creates it too.
export   prints the key's recovery code (14 groups of 4 characters). With a copy of the
         repository (a USB disk) and this code, anyone can restore: keep it with the disks,
         never with the server.

options:
  --config FILE   agent.yaml (required)

example:
  sentinela-agent key export --config /etc/sentinela/agent.yaml
`,
};
