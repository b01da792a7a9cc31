// Service names for lookupService(), as getnameinfo() finds them in /etc/services (TCP): the host's
// file is not read, so that a stack's answers do not depend on the machine it runs on.
const SERVICES: Record<number, string> = {
  7: 'echo', 9: 'discard', 13: 'daytime', 20: 'ftp-data', 21: 'ftp', 22: 'ssh', 23: 'telnet',
  25: 'smtp', 37: 'time', 43: 'whois', 53: 'domain', 70: 'gopher', 79: 'finger', 80: 'http',
  88: 'kerberos', 110: 'pop3', 111: 'sunrpc', 113: 'auth', 119: 'nntp', 139: 'netbios-ssn',
  143: 'imap2', 161: 'snmp', 179: 'bgp', 389: 'ldap', 443: 'https', 445: 'microsoft-ds',
  465: 'submissions', 515: 'printer', 587: 'submission', 631: 'ipp', 636: 'ldaps',
  749: 'kerberos-adm', 873: 'rsync', 993: 'imaps', 995: 'pop3s', 1080: 'socks', 1194: 'openvpn',
  1433: 'ms-sql-s', 2049: 'nfs', 3306: 'mysql', 3389: 'ms-wbt-server', 5060: 'sip',
  5222: 'xmpp-client', 5432: 'postgresql', 5672: 'amqp', 6379: 'redis', 8080: 'http-alt', 9418: 'git',
};

/** The service name of a TCP port, or the port number as text when it has none. */
export function serviceName(port: number): string {
  return SERVICES[port] ?? String(port);
}
