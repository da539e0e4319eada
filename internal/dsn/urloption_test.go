package dsn

import ()
