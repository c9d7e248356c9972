/** The local identity service: `node services/identity/dist/main.js` (settings from the environment or .env). */
import { configureTracing, loadSettingsOrExit } from '@stratus/core';
import { createLocalIdentityService } from './app/local-identity-service.js';
import { localIdentitySettings } from './config/settings.js';

const settings = loadSettingsOrExit(localIdentitySettings);
const tracing = await configureTracing(settings);
const service = await createLocalIdentityService({ settings, tracing });
await service.run();
