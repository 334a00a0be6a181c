import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_HEADERS, TOPIC_SPECS, TOPIC_SUFFIXES, TOPICS, subjectFor, topicKeyOf, topicNames, type TopicKey } from '../../../lib/contracts/topics.js';

const KEYS = Object.keys(TOPIC_SUFFIXES) as TopicKey[];

describe('topic names', () => {
  it('carry a version and the namespace: <namespace>.<name>.v<N>', () => {
    const names = topicNames('acme-prod');
    for (const key of KEYS) expect(names[key]).toMatch(/^acme-prod\.[a-z-]+\.v\d+$/);
    expect(names.predictions).toBe('acme-prod.predictions.v1');
    expect(TOPICS.predictions).toBe('driftwatch.predictions.v1');
  });

  it('are distinct per key and frozen', () => {
    const names = topicNames('ns');
    expect(new Set(Object.values(names)).size).toBe(KEYS.length);
    expect(Object.isFrozen(names)).toBe(true);
  });

  it('map back to their key in any namespace, including namespaces with dots', () => {
    for (const ns of ['driftwatch', 'team.a.staging', 'it-1234abcd']) {
      const names = topicNames(ns);
      for (const key of KEYS) expect(topicKeyOf(names[key])).toBe(key);
    }
    expect(topicKeyOf('driftwatch.predictions.v2')).toBeUndefined();
    expect(topicKeyOf('predictions')).toBeUndefined();
  });

  it('name registry subjects with the Confluent TopicNameStrategy', () => {
    expect(subjectFor('driftwatch.predictions.v1')).toBe('driftwatch.predictions.v1-value');
  });
});

describe('topic specs', () => {
  it('describe every topic key, with the key it is stored under', () => {
    expect(Object.keys(TOPIC_SPECS).sort()).toEqual([...KEYS].sort());
    for (const key of KEYS) expect(TOPIC_SPECS[key].key).toBe(key);
  });

  it('key predictions, outcomes and labeled predictions by prediction_id in one co-partition group', () => {
    for (const key of ['predictions', 'outcomes', 'labeledPredictions'] as const) {
      expect(TOPIC_SPECS[key]).toMatchObject({ messageKey: 'prediction_id', coPartitionGroup: 'prediction_id' });
    }
    expect(TOPIC_SPECS.features.coPartitionGroup).toBeNull();
  });

  it('give every event topic a schema whose version matches the topic version', () => {
    for (const key of KEYS) {
      const spec = TOPIC_SPECS[key];
      if (!spec.schema) continue;
      const topicVersion = /\.(v\d+)$/.exec(TOPIC_SUFFIXES[key])![1];
      expect(spec.schema.namespace.endsWith(`.${topicVersion}`)).toBe(true);
    }
    expect(TOPIC_SPECS.deadLetter.schema).toBeNull();
  });

  it('name the dead-letter headers uniquely under the dw- prefix', () => {
    const values = Object.values(DEAD_LETTER_HEADERS);
    expect(new Set(values).size).toBe(values.length);
    for (const v of values) expect(v).toMatch(/^dw-[a-z-]+$/);
  });
});
