// The app the cdk CLI runs (`cdk.json`): `-c env=<dev|test|prod>` picks the environment and
// `-c imageDigest.<service>=sha256:...` the images. Lambda bundles must be built (no placeholders).
import { createStratusApp } from './app.js';

createStratusApp().app.synth();
