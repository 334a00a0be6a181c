/**
 * Which partition of the retrain topic a model's events go to, and therefore which trigger instance
 * owns the model (instances share the partitions of the retrain topic through one consumer group).
 *
 * The hash is Kafka's default partitioner for keyed records: murmur2 of the key bytes, made positive
 * with `& 0x7fffffff`, modulo the partition count (Java client `Utils.murmur2` / `toPositive`, which
 * kafkajs 2.2.4 reproduces in src/producer/partitioners/default/murmur2.js). The trigger sets the
 * partition explicitly, so ownership and placement cannot disagree, and the topic stays partitioned
 * exactly as a keyed producer would partition it by model_name.
 */

/** Kafka's murmur2 (32-bit, seed 0x9747b28c), as a signed 32-bit integer like Java's. */
export function murmur2(key: string | Buffer): number {
  const data = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  const m = 0x5bd1e995;
  const length = data.length;
  let h = 0x9747b28c ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (data[i4]! & 0xff) | ((data[i4 + 1]! & 0xff) << 8) | ((data[i4 + 2]! & 0xff) << 16) | ((data[i4 + 3]! & 0xff) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length & ~3;
  // The Java switch falls through from 3 to 1; the same as cascading ifs.
  const rem = length & 3;
  if (rem >= 3) h ^= (data[tail + 2]! & 0xff) << 16;
  if (rem >= 2) h ^= (data[tail + 1]! & 0xff) << 8;
  if (rem >= 1) {
    h ^= data[tail]! & 0xff;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

export function partitionForKey(key: string, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}
