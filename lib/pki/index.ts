// The mesh PKI: identities, keys, CSRs, the CA, chain verification, sealed CA
// keys and rotation timing. Parts import from here, not from the files.
export { PkiError, type PkiErrorCode } from './errors';
export {
  ROLES,
  type Role,
  type Identity,
  formatIdentity,
  parseIdentity,
  isIdentity,
  isRole,
  isTrustDomain,
  trustDomainId,
  parseTrustDomainId,
  matchIdentityPattern,
} from './identity';
export {
  RSA_KEY_BITS,
  ROOT_RSA_KEY_BITS,
  MIN_RSA_KEY_BITS,
  type KeyPairPem,
  generateKeyPair,
  generateKeyPairAsync,
  publicKeyPemOf,
} from './keys';
export { type CsrRequest, type ParsedCsr, MAX_CSR_RSA_KEY_BITS, createCsr, createWorkloadCsr, parseCsr, readCsrPublicKey } from './csr';
export {
  type WorkloadCertificate,
  type WorkloadCertificateRequest,
  WorkloadCertificateRequestError,
  requestWorkloadCertificate,
} from './workload-certificate-request';
export {
  type RootCa,
  type IssuedCertificate,
  type IssuedLeaf,
  type RootCaOptions,
  type IntermediateOptions,
  type LeafOptions,
  type WorkloadLeafOptions,
  createRootCa,
  issueIntermediate,
  issueLeaf,
  issueWorkloadLeaf,
} from './certificate-authority';
export { MESH_DNS_SUFFIX, LEAF_ROLES, WORKLOAD_ROLE, allowedLeafDnsNames } from './issuance-policy';
export { CLOCK_SKEW_MS } from './sign-certificate';
export { type CertificateInfo, type CertificateInput, readCertificate } from './certificate';
export { type VerifyChainOptions, type VerifyFailureReason, type VerifyResult, verifyChain } from './verify';
export { MIN_DATA_KEY_BYTES, type DataKey, type LoadDataKeyOptions, loadDataKey, dataKeyFromBytes } from './data-key';
export { STATE_KEY_CREDENTIAL, type StateKeySource, stateKeySource, loadStateKey } from './state-key';
export { type SealedKey, type SealContext, type SealPurpose, sealPrivateKey, openSealedKey, sealSecret, openSecret } from './sealed-key';
export { DEFAULT_ROTATION_FRACTION, type Lifetime, lifetime, rotationDueAt, msUntilRotation } from './rotation';
export { createSelfSignedCertificate, type SelfSignedOptions } from './self-signed';
export {
  GLOBAL_REGION,
  GLOBAL_NAME,
  type ControlPlaneCertificate,
  type ControlPlaneCertificateOptions,
  globalIdentity,
  issueGlobalServerCertificate,
  issueZoneLeaf,
} from './control-plane-certificates';
export { certificateFingerprint, isFingerprint } from './fingerprint';
