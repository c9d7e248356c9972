import { loadSettings } from '@stratus/core';
import { describe, expect, it } from 'vitest';
import { langfuseConnection, localPlatformSettings } from '../src/local-platform.js';

const localLangfuse = {
  langfuse: { url: 'http://127.0.0.1:1', publicKey: 'pk-local', secretKey: 'sk-local' },
};
const settingsWith = (env: Record<string, string>) =>
  loadSettings(localPlatformSettings, { envFile: false, env: { LOG_LEVEL: 'silent', ...env } });

describe('langfuseConnection', () => {
  it('is the caller’s Langfuse only when all three LANGFUSE_* settings are given', () => {
    const all = {
      LANGFUSE_BASE_URL: 'https://cloud.langfuse.com',
      LANGFUSE_PUBLIC_KEY: 'pk',
      LANGFUSE_SECRET_KEY: 'sk',
    };
    expect(langfuseConnection(settingsWith(all), localLangfuse)).toEqual({
      baseUrl: 'https://cloud.langfuse.com',
      publicKey: 'pk',
      secretKey: 'sk',
      local: false,
    });
    // A URL without keys (or keys without a URL) would mix the two: the local one is used whole.
    expect(
      langfuseConnection(settingsWith({ LANGFUSE_BASE_URL: 'https://cloud.langfuse.com' }), localLangfuse),
    ).toEqual({ baseUrl: 'http://127.0.0.1:1', publicKey: 'pk-local', secretKey: 'sk-local', local: true });
  });
});
