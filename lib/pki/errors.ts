// The one error type of the PKI library. `code` lets a caller map a refusal
// to its protocol (a refused CSR is the caller's fault, a broken CA key is ours)
// without matching on message text.
export type PkiErrorCode =
  | 'invalid-identity' // not a Meridian SPIFFE ID, or a malformed identity pattern
  | 'invalid-csr' // not a CSR we can read: not PEM, bad signature, unsupported key
  | 'csr-refused' // a well-formed CSR that asks for something this CA must not grant
  | 'invalid-certificate' // a certificate that cannot be read
  | 'invalid-ca' // the CA certificate or key handed to an issuing function is unusable
  | 'invalid-key' // a private key that cannot be read or is too weak
  | 'invalid-argument' // a lifetime, fraction or other parameter out of range
  | 'sealed-key' // a sealed key that is malformed or that the data key does not open
  | 'data-key'; // a data key file that is missing, too short or too open

export class PkiError extends Error {
  readonly code: PkiErrorCode;

  constructor(code: PkiErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PkiError';
    this.code = code;
  }
}
