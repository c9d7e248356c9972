/**
 * The rule for SigningCertURL: https, a host matching the trusted pattern (AWS's own
 * `sns.<region>.amazonaws.com[.cn]` unless configured), path `/SimpleNotificationService-<hex>.pem`,
 * and nothing else (no credentials, query or fragment). Returns the reason it fails, or undefined.
 */
export function signingCertUrlProblem(certUrl: string, trustedHost: RegExp): string | undefined {
  let url: URL;
  try {
    url = new URL(certUrl);
  } catch {
    return 'SigningCertURL is not a URL';
  }
  if (url.protocol !== 'https:') return 'SigningCertURL must use https';
  if (url.username !== '' || url.password !== '') return 'SigningCertURL must not carry credentials';
  if (!trustedHost.test(url.hostname)) return `SigningCertURL host ${url.hostname} is not trusted`;
  if (!/^\/SimpleNotificationService-[0-9a-fA-F]+\.pem$/.test(url.pathname)) {
    return 'SigningCertURL path must be /SimpleNotificationService-<hex>.pem';
  }
  if (url.search !== '' || url.hash !== '') return 'SigningCertURL must not have a query or fragment';
  return undefined;
}
