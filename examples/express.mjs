// An unmodified express app: nothing in it knows about iothts. Put it on a virtual network with
//   IOTH_VNL=vxvde://234.0.0.1 IOTH_CONFIG=eth,ip=10.0.0.1/24 node --import iothts/register examples/express.mjs
// or  node bin/iothts.js --vnl vxvde://234.0.0.1 --config eth,ip=10.0.0.1/24 examples/express.mjs
// then, from the VNL:  curl http://10.0.0.1:3000/hello/you
import express from 'express';

const app = express();
app.use(express.json());
app.get('/hello/:name', (req, res) => res.json({ hello: req.params.name, from: req.ip }));
app.post('/echo', (req, res) => res.json(req.body));
app.listen(3000, () => console.log('express listening on port 3000'));
