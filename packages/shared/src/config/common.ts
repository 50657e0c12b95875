import { z } from 'zod';

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A byte size: a number of bytes or a text such as "256MiB" or "1.5 GB". */
export const byteSize = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*(b|kb|mb|gb|kib|mib|gib)\s*$/i, 'a size such as 512MiB or 2GB')
    .transform((s) => {
      const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(s)!;
      return Math.round(Number(m[1]) * SIZE_UNITS[m[2]!.toLowerCase()]!);
    }),
]);

export const port = z.number().int().min(0).max(65535);

export const listen = z.strictObject({
  host: z.string().min(1).default('127.0.0.1'),
  port,
});

export const logConfig = z
  .strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  })
  .default({ level: 'info' });

export const tlsFiles = z.strictObject({
  certFile: z.string().min(1),
  keyFile: z.string().min(1),
});
