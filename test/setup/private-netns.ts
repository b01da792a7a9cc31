// Run before each test file of the network and reliability tiers (jest.config.js): outside the
// private network namespace of scripts/in-private-netns.sh the file does not even load.
import { assertPrivateNetns } from '../helpers/netns';

assertPrivateNetns();
