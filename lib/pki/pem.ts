// forge writes PEM with CRLF line ends, Node with LF; everything this library
// returns uses LF so PEMs compare, concatenate into chains and store alike.
export function unixPem(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}
